package graph

import (
	"testing"
	"time"

	jsonser "github.com/microsoft/kiota-serialization-json-go"
)

// Graph's innerError.date has no zone and means UTC; the SDK reads it as
// local time. A report for Microsoft support must carry Graph's time.
func TestGraphDate(t *testing.T) {
	saved := time.Local
	time.Local = time.FixedZone("CET", 3600)
	defer func() { time.Local = saved }()
	for _, raw := range []string{`"2024-05-21T10:00:00"`, `"2024-05-21T10:00:00Z"`} {
		node, err := jsonser.NewJsonParseNode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		d, err := node.GetTimeValue() // as the SDK reads innerError.date
		if err != nil {
			t.Fatal(err)
		}
		if got := graphDate(*d).Format(time.RFC3339); got != "2024-05-21T10:00:00Z" {
			t.Errorf("%s read as %s, want 2024-05-21T10:00:00Z", raw, got)
		}
	}
}
