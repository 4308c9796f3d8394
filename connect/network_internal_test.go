package connect

import (
	"net/http"
	"testing"
)

// HTTPS_PROXY carries every https request but those NO_PROXY names and
// loopback; the lower-case names count when the upper-case are unset, as
// curl reads them.
func TestProxyChoice(t *testing.T) {
	cases := []struct {
		env  map[string]string
		url  string
		want string
	}{
		{map[string]string{"HTTPS_PROXY": "http://proxy.corp:3128"}, "https://graph.microsoft.us/v1.0/me", "http://proxy.corp:3128"},
		{map[string]string{"https_proxy": "http://lower.corp:8080"}, "https://login.microsoftonline.com/x", "http://lower.corp:8080"},
		{map[string]string{"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".microsoft.us"}, "https://graph.microsoft.us/v1.0/me", ""},
		{map[string]string{"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".microsoft.us"}, "https://graph.microsoft.com/v1.0/me", "http://proxy.corp:3128"},
		{map[string]string{"HTTPS_PROXY": "http://proxy.corp:3128"}, "https://127.0.0.1:8443/v1.0/me", ""},
		{map[string]string{}, "https://graph.microsoft.com/v1.0/me", ""},
	}
	for _, c := range cases {
		tr, err := networkTransport(func(k string) string { return c.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", c.url, nil)
		u, err := tr.Proxy(req)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != c.want {
			t.Errorf("%v %s: proxy %q (%v), want %q", c.env, c.url, got, err, c.want)
		}
	}
}
