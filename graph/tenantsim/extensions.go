package tenantsim

import (
	"maps"
	"net/http"
	"strings"
)

// Open extensions on users: free-form properties under an extensionName,
// which is also the extension's id.

const openTypeExtension = "#microsoft.graph.openTypeExtension"

func (s *Server) listExtensions(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var items []any
	var gerr *graphError
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(r.PathValue("id")); gerr != nil {
			return
		}
		for _, e := range u.Extensions {
			items = append(items, maps.Clone(e)) // a PATCH changes it in place
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, s.page(r, items))
	return nil
}

// readExtension decodes and checks an open extension body.
func readExtension(r *http.Request, create bool) (map[string]any, *graphError) {
	data, gerr := readBody(r)
	if gerr != nil {
		return nil, gerr
	}
	body, gerr := decodeObject(data)
	if gerr != nil {
		return nil, gerr
	}
	if t, _ := body["@odata.type"].(string); t != openTypeExtension && (create || t != "") {
		return nil, errBadRequest("BadRequest", "A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", t)
	}
	if name, _ := body["extensionName"].(string); create && strings.TrimSpace(name) == "" {
		return nil, errBadRequest("BadRequest", "extensionName is required.")
	}
	return body, nil
}

func findExtension(u *user, name string) map[string]any {
	for _, e := range u.Extensions {
		if strings.EqualFold(e["extensionName"].(string), name) {
			return e
		}
	}
	return nil
}

func (s *Server) createExtension(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	body, gerr := readExtension(r, true)
	if gerr != nil {
		return gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	name := body["extensionName"].(string)
	if findExtension(u, name) != nil {
		return &graphError{Status: http.StatusConflict, Code: "NameAlreadyExists", Message: "An extension already exists with given id."}
	}
	body["id"] = name
	u.Extensions = append(u.Extensions, body)
	return s.commit(w, http.StatusCreated, body)
}

func (s *Server) getExtension(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	var e map[string]any
	var gerr *graphError
	s.locked(func() {
		var u *user
		if u, gerr = s.lookupUser(r.PathValue("id")); gerr != nil {
			return
		}
		if e = findExtension(u, r.PathValue("name")); e == nil {
			gerr = errNotFound("extension", r.PathValue("name"))
		} else {
			e = maps.Clone(e)
		}
	})
	if gerr != nil {
		return gerr
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) patchExtension(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	body, gerr := readExtension(r, false)
	if gerr != nil {
		return gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	e := findExtension(u, r.PathValue("name"))
	if e == nil {
		return errNotFound("extension", r.PathValue("name"))
	}
	for k, v := range body {
		if k != "id" && k != "extensionName" && k != "@odata.type" {
			e[k] = v
		}
	}
	return s.commit(w, http.StatusNoContent, nil)
}

func (s *Server) deleteExtension(w http.ResponseWriter, r *http.Request, _ *caller) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, gerr := s.lookupUser(r.PathValue("id"))
	if gerr != nil {
		return gerr
	}
	e := findExtension(u, r.PathValue("name"))
	if e == nil {
		return errNotFound("extension", r.PathValue("name"))
	}
	for i := range u.Extensions {
		if u.Extensions[i]["extensionName"] == e["extensionName"] {
			u.Extensions = append(u.Extensions[:i], u.Extensions[i+1:]...)
			break
		}
	}
	return s.commit(w, http.StatusNoContent, nil)
}
