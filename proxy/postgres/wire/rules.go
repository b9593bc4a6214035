package wire

// Rules bound and select messages for a Pump, per message type byte.
type Rules struct {
	// MaxLen is the largest length word (which counts itself) allowed for
	// each type; 0 marks a type that is not allowed in this direction.
	MaxLen [256]int64
	// Inspect is how many body bytes the pump gathers before it calls the
	// inspector for a message of that type: 0 for none, the whole body
	// when it is shorter. A body longer than this is inspected by its
	// first Inspect bytes and then streamed.
	Inspect [256]int
}

// Message types the relay inspects, named as in "Message Formats".
const (
	MsgQuery           = 'Q'
	MsgParse           = 'P'
	MsgBind            = 'B'
	MsgExecute         = 'E' // frontend
	MsgClose           = 'C' // frontend
	MsgSync            = 'S' // frontend
	MsgFlush           = 'H' // frontend
	MsgFunctionCall    = 'F'
	MsgTerminate       = 'X'
	MsgDescribe        = 'D' // frontend
	MsgCopyData        = 'd'
	MsgCopyDone        = 'c'
	MsgCopyFail        = 'f'
	MsgCommandComplete = 'C' // backend
	MsgErrorResponse   = 'E' // backend
	MsgReadyForQuery   = 'Z'
	MsgDataRow         = 'D' // backend
	MsgPortalSuspended = 's'
	MsgEmptyQuery      = 'I'
	MsgCopyInResponse  = 'G'
	MsgCopyOutResponse = 'H' // backend
	MsgCopyBothResp    = 'W'
	MsgNoticeResponse  = 'N'
	// MsgParameterStatus and MsgNotificationResponse are backend messages.
	MsgParameterStatus      = 'S'
	MsgNotificationResponse = 'A'
)

// DefaultInspectLimit is how much of a Query, Parse or Bind body the
// relay gathers for query capture. Longer statements are logged by their
// first DefaultInspectLimit bytes.
const DefaultInspectLimit = 1 << 20

// FrontendRules returns the limits PostgreSQL 15 applies to messages from
// the client after start-up (SocketBackend in src/backend/tcop/postgres.c),
// gathering Query, Parse and Bind bodies up to inspectLimit bytes.
func FrontendRules(inspectLimit int) *Rules {
	r := &Rules{}
	for _, t := range []byte{MsgQuery, MsgParse, MsgBind, MsgFunctionCall, MsgCopyData} {
		r.MaxLen[t] = LargeMessageLimit
	}
	for _, t := range []byte{MsgExecute, MsgClose, MsgSync, MsgFlush, MsgTerminate, MsgDescribe, MsgCopyDone, MsgCopyFail} {
		r.MaxLen[t] = SmallMessageLimit
		r.Inspect[t] = SmallMessageLimit
	}
	for _, t := range []byte{MsgQuery, MsgParse, MsgBind, MsgFunctionCall} {
		r.Inspect[t] = inspectLimit
	}
	return r
}

// BackendRules returns limits for messages from the server: every backend
// message type of protocol 3 up to 1 GiB, with CommandComplete,
// ErrorResponse, ReadyForQuery and the COPY responses gathered whole for
// inspection. DataRow and the rest are seen by type only.
func BackendRules() *Rules {
	r := &Rules{}
	for _, t := range []byte("R" + "K" + "S" + "Z" + "T" + "D" + "C" + "E" + "N" + "A" + "I" + "1" + "2" + "3" +
		"n" + "s" + "t" + "G" + "H" + "W" + "d" + "c" + "v" + "V") {
		r.MaxLen[t] = LargeMessageLimit
	}
	for _, t := range []byte{MsgCommandComplete, MsgErrorResponse, MsgReadyForQuery, MsgCopyInResponse,
		MsgCopyOutResponse, MsgCopyBothResp} {
		r.Inspect[t] = SmallMessageLimit
	}
	return r
}
