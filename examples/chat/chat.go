package main

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	socketio "github.com/socketio-go/socketio"
)

// Limits of the chat. They keep one misbehaving client from growing the
// server's memory without bound.
const (
	maxNicknameLen = 20
	maxMessageLen  = 500
	maxRooms       = 32
	historySize    = 50
)

// defaultRooms exist from the start and are never removed.
var defaultRooms = []string{"general", "random", "go"}

var roomName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,23}$`)

// Errors shown to users (their text reaches the browser).
var (
	errNicknameEmpty   = errors.New("please choose a nickname")
	errNicknameLong    = errors.New("nickname too long (20 characters at most)")
	errNicknameInvalid = errors.New("nickname may use letters, digits, '-', '_' and '.' only")
	errNicknameTaken   = errors.New("nickname already taken")
	errRoomInvalid     = errors.New("room names are 1-24 lowercase letters, digits, '-' or '_'")
	errTooManyRooms    = errors.New("too many rooms")
	errNotInRoom       = errors.New("join a room first")
	errMessageEmpty    = errors.New("empty message")
	errMessageLong     = errors.New("message too long (500 characters at most)")
)

// validateNickname returns the nickname as it will be shown, or why it is refused.
func validateNickname(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errNicknameEmpty
	case utf8.RuneCountInString(s) > maxNicknameLen:
		return "", errNicknameLong
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return "", errNicknameInvalid
		}
	}
	return s, nil
}

// normalizeRoom accepts "#Go" as well as "go".
func normalizeRoom(s string) (string, error) {
	s = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	if !roomName.MatchString(s) {
		return "", errRoomInvalid
	}
	return s, nil
}

// Message is a chat message, as sent to browsers and kept in history.
type Message struct {
	ID   int64  `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
	TS   int64  `json:"ts"` // milliseconds since the Unix epoch
}

// Notice tells a room that someone joined or left.
type Notice struct {
	Room     string `json:"room"`
	Kind     string `json:"kind"` // "joined" or "left"
	Nickname string `json:"nickname"`
	TS       int64  `json:"ts"`
}

// RoomInfo is an entry of the room list.
type RoomInfo struct {
	Name  string `json:"name"`
	Users int    `json:"users"`
}

// JoinReply acknowledges a "join": the room's recent history and members.
type JoinReply struct {
	Room    string    `json:"room,omitempty"`
	History []Message `json:"history"`
	Members []string  `json:"members"`
	Error   string    `json:"error,omitempty"`
}

// SendReply acknowledges a "message": the delivery confirmation.
type SendReply struct {
	ID    int64  `json:"id,omitempty"`
	TS    int64  `json:"ts,omitempty"`
	Error string `json:"error,omitempty"`
}

// Typing tells a room that someone started or stopped typing.
type Typing struct {
	Nickname string `json:"nickname"`
	Typing   bool   `json:"typing"`
}

type room struct {
	name    string
	history []Message         // oldest first, at most historySize
	members map[string]string // socket id -> nickname
}

func (r *room) record(m Message) {
	if len(r.history) == historySize {
		copy(r.history, r.history[1:])
		r.history = r.history[:historySize-1]
	}
	r.history = append(r.history, m)
}

func (r *room) memberList() []string {
	out := make([]string, 0, len(r.members))
	for _, n := range r.members {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// user is a connected chat user.
type user struct {
	nickname string
	room     string // current room, "" before the first join
}

// chat is the in-memory state of the chat: users, rooms and their history.
// It is safe for concurrent use; the socket.io calls happen outside its lock.
type chat struct {
	now func() time.Time

	// emitMu orders the room-list and online-count broadcasts, so that the
	// last one sent is the latest state.
	emitMu sync.Mutex

	mu     sync.Mutex
	users  map[string]*user  // by socket id
	nicks  map[string]string // lowercase nickname -> socket id
	rooms  map[string]*room
	nextID int64
}

func newChat() *chat {
	c := &chat{
		now:   time.Now,
		users: make(map[string]*user),
		nicks: make(map[string]string),
		rooms: make(map[string]*room),
	}
	for _, name := range defaultRooms {
		c.rooms[name] = &room{name: name, members: map[string]string{}}
	}
	return c
}

// nicknameTaken reports whether a connected user has the nickname (case-insensitive).
func (c *chat) nicknameTaken(nick string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.nicks[strings.ToLower(nick)]
	return ok
}

// addUser claims a nickname for socket id.
func (c *chat) addUser(id, nick string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.ToLower(nick)
	if _, ok := c.nicks[key]; ok {
		return errNicknameTaken
	}
	c.nicks[key] = id
	c.users[id] = &user{nickname: nick}
	return nil
}

// removeUser forgets socket id and returns the room it was in.
func (c *chat) removeUser(id string) (nick, roomName string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[id]
	if u == nil {
		return "", ""
	}
	delete(c.users, id)
	delete(c.nicks, strings.ToLower(u.nickname))
	if r := c.rooms[u.room]; r != nil {
		delete(r.members, id)
	}
	return u.nickname, u.room
}

// joinResult describes what a join changed.
type joinResult struct {
	left    string // the room left, "" if none
	moved   bool   // false when the user was already in the room
	created bool   // the room is new
	reply   JoinReply
}

// join moves socket id into a room, creating it when new.
func (c *chat) join(id, name string) (joinResult, error) {
	name, err := normalizeRoom(name)
	if err != nil {
		return joinResult{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[id]
	if u == nil {
		return joinResult{}, errNotInRoom
	}
	var res joinResult
	r := c.rooms[name]
	if r == nil {
		if len(c.rooms) >= maxRooms {
			return joinResult{}, errTooManyRooms
		}
		r = &room{name: name, members: map[string]string{}}
		c.rooms[name] = r
		res.created = true
	}
	if u.room != name {
		if old := c.rooms[u.room]; old != nil {
			delete(old.members, id)
			res.left = u.room
		}
		u.room = name
		r.members[id] = u.nickname
		res.moved = true
	}
	res.reply = JoinReply{Room: name, History: append([]Message{}, r.history...), Members: r.memberList()}
	return res, nil
}

// post records a message from socket id in its current room.
func (c *chat) post(id, text string) (Message, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Message{}, errMessageEmpty
	case utf8.RuneCountInString(text) > maxMessageLen:
		return Message{}, errMessageLong
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[id]
	if u == nil || c.rooms[u.room] == nil {
		return Message{}, errNotInRoom
	}
	c.nextID++
	m := Message{ID: c.nextID, Room: u.room, From: u.nickname, Text: text, TS: c.now().UnixMilli()}
	c.rooms[u.room].record(m)
	return m, nil
}

// userOf returns the nickname and room of socket id.
func (c *chat) userOf(id string) (nick, room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[id]; u != nil {
		return u.nickname, u.room
	}
	return "", ""
}

// roomList returns the rooms, the default ones first, with their user counts.
func (c *chat) roomList() []RoomInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]RoomInfo, 0, len(c.rooms))
	for _, name := range defaultRooms {
		out = append(out, RoomInfo{Name: name, Users: len(c.rooms[name].members)})
	}
	var extra []RoomInfo
	for name, r := range c.rooms {
		if !isDefaultRoom(name) {
			extra = append(extra, RoomInfo{Name: name, Users: len(r.members)})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	return append(out, extra...)
}

// online returns the number of connected users.
func (c *chat) online() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.users)
}

func isDefaultRoom(name string) bool {
	for _, d := range defaultRooms {
		if d == name {
			return true
		}
	}
	return false
}

// attach registers the chat's middleware and handlers on the main namespace of sio.
//
// Events from the browser: "join" (room name, ack JoinReply), "message"
// (text, ack SendReply), "typing" (bool). Events to the browser: "welcome",
// "message", "notice", "typing", "online", "rooms", "unread".
func (c *chat) attach(sio *socketio.Server) {
	nsp := sio.Of("/")

	// The nickname comes with the handshake: io({auth: {nickname}}). A
	// refusal reaches the browser's connect_error handler.
	nsp.Use(func(s *socketio.Socket) error {
		var auth struct {
			Nickname string `json:"nickname"`
		}
		_ = s.Handshake().BindAuth(&auth)
		nick, err := validateNickname(auth.Nickname)
		if err != nil {
			return &socketio.ConnectError{Message: err.Error()}
		}
		if c.nicknameTaken(nick) {
			return &socketio.ConnectError{Message: errNicknameTaken.Error()}
		}
		s.SetData(nick)
		return nil
	})

	nsp.OnConnection(func(s *socketio.Socket) {
		nick, _ := s.Data().(string)
		// The middleware's check can race with another connection under
		// the same name; addUser decides.
		if err := c.addUser(s.ID(), nick); err != nil {
			_ = s.Emit("fatal", err.Error())
			s.Disconnect(false)
			return
		}
		_ = s.Emit("welcome", map[string]any{"nickname": nick, "rooms": c.roomList()})
		c.broadcastPresence(nsp)

		socketio.OnWithAck(s, "join", func(s *socketio.Socket, name string) JoinReply {
			res, err := c.join(s.ID(), name)
			if err != nil {
				return JoinReply{Error: err.Error(), History: []Message{}, Members: []string{}}
			}
			if !res.moved {
				return res.reply
			}
			ts := c.now().UnixMilli()
			if res.left != "" {
				s.Leave(res.left)
				_ = nsp.To(res.left).Emit("notice", Notice{Room: res.left, Kind: "left", Nickname: nick, TS: ts})
			}
			s.Join(res.reply.Room)
			// s.To reaches the room without the joiner, like socket.broadcast.to.
			_ = s.To(res.reply.Room).Emit("notice", Notice{Room: res.reply.Room, Kind: "joined", Nickname: nick, TS: ts})
			c.broadcastRooms(nsp) // user counts changed
			return res.reply
		})

		socketio.OnWithAck(s, "message", func(s *socketio.Socket, text string) SendReply {
			m, err := c.post(s.ID(), text)
			if err != nil {
				return SendReply{Error: err.Error()}
			}
			_ = s.To(m.Room).Emit("message", m)
			// Everyone elsewhere gets an unread mark for the room list.
			_ = s.Broadcast().Except(m.Room).Volatile().Emit("unread", m.Room)
			return SendReply{ID: m.ID, TS: m.TS}
		})

		socketio.On(s, "typing", func(s *socketio.Socket, typing bool) {
			nick, room := c.userOf(s.ID())
			if room != "" {
				_ = s.To(room).Volatile().Emit("typing", Typing{Nickname: nick, Typing: typing})
			}
		})

		s.OnDisconnect(func(reason string) {
			nick, room := c.removeUser(s.ID())
			if nick == "" {
				return
			}
			if room != "" {
				_ = nsp.To(room).Emit("notice", Notice{Room: room, Kind: "left", Nickname: nick, TS: c.now().UnixMilli()})
			}
			c.broadcastPresence(nsp)
		})
	})
}

// broadcastPresence sends everyone the online count and the room list.
func (c *chat) broadcastPresence(nsp *socketio.Namespace) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	_ = nsp.Emit("online", c.online())
	_ = nsp.Emit("rooms", c.roomList())
}

// broadcastRooms sends everyone the room list.
func (c *chat) broadcastRooms(nsp *socketio.Namespace) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	_ = nsp.Emit("rooms", c.roomList())
}
