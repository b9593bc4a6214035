package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// maxBodyBytes caps the JSON body of an API call. Real bodies are a few
// hundred bytes, so 1 MiB leaves room for long reasons and comments.
const maxBodyBytes = 1 << 20

// writeJSON sends v with status. An encoding error after the header is
// out can only be a broken connection, which the request log shows.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeBody reads one JSON object into v, rejecting unknown fields,
// trailing data and bodies over maxBodyBytes. An empty body leaves v as
// it is when optional is true.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if optional {
			return nil
		}
		return fail(http.StatusBadRequest, codeBadJSON, "the request body is empty; send a JSON object")
	}
	if err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(http.StatusBadRequest, codeBadJSON, "the request body has data after the JSON object; send exactly one object")
	}
	return nil
}

// jsonError describes a decoding failure with the offset or field at fault.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fail(http.StatusBadRequest, codeBadJSON, "the request body is over the %d-byte limit", tooBig.Limit)
	case errors.As(err, &syntax):
		return fail(http.StatusBadRequest, codeBadJSON, "the request body is not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field == "":
		return fail(http.StatusBadRequest, codeBadJSON, "the request body must be a JSON object, not %s", typ.Value)
	case errors.As(err, &typ):
		return fail(http.StatusBadRequest, codeBadJSON, "field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(http.StatusBadRequest, codeBadJSON, "the request body ends in the middle of the JSON object")
	}
	// DisallowUnknownFields reports `json: unknown field "x"` with no type.
	return fail(http.StatusBadRequest, codeBadJSON, "the request body is not accepted: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// pathID parses the {id} path value of a request or grant route. A value
// that is not a positive integer names no record, so it is a 404.
func pathID(r *http.Request, what string) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("%s id %q does not exist; ids are positive integers", what, raw)
	}
	return id, nil
}

// queryBool parses an optional true/false query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		return false, badRequest("query parameter %s=%q must be true or false", name, raw)
	}
	return v, nil
}

// queryLimit parses the limit parameter of list calls: default 100,
// at most 1000.
func queryLimit(r *http.Request) (int, error) {
	const defaultLimit, maxLimit = 100, 1000
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 || n > maxLimit {
		return 0, badRequest("query parameter limit=%q must be a whole number from 1 to %d", raw, maxLimit)
	}
	return n, nil
}
