package graph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadPathSegment is a value that cannot name one object in a URL path.
// url.PathEscape leaves "." and ".." as they are, and a client following
// RFC 3986 (or a proxy) removes such dot segments: "/users/." becomes
// "/users/", the whole user list, which a caller expecting one user would
// read as a user with an empty id. An empty value does the same. No such
// request is sent.
var ErrBadPathSegment = errors.New("cannot name a directory object")

// pathf builds a Graph path from a format whose %s verbs each take one
// value, such as pathf("/users/%s/extensions/%s", userID, name): every value
// is escaped as one path segment, so that a "/", "?" or "#" in it stays part
// of the name. A value that is empty, "." or ".." is refused with
// ErrBadPathSegment.
func pathf(format string, values ...string) (string, error) {
	escaped := make([]any, len(values))
	for i, v := range values {
		seg, err := pathSegment(v)
		if err != nil {
			return "", err
		}
		escaped[i] = seg
	}
	return fmt.Sprintf(format, escaped...), nil
}

// pathSegment escapes v as one URL path segment, refusing values that name
// no single object.
func pathSegment(v string) (string, error) {
	switch strings.TrimSpace(v) {
	case "":
		return "", fmt.Errorf("an empty id %w", ErrBadPathSegment)
	case ".", "..":
		return "", fmt.Errorf("%q %w", v, ErrBadPathSegment)
	}
	return url.PathEscape(v), nil
}
