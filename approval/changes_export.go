package approval

// Changes returns a channel that the engine closes at its next change: a
// state change made through this engine, or a store write that the
// store's Changes channel announces. Each channel is closed once, so a
// subscriber takes a fresh one after every wake and before it reads state.
// Then no change can slip between that read and the next wait. Live pages
// use it to stream updates without polling.
func (e *Engine) Changes() <-chan struct{} { return e.changes() }
