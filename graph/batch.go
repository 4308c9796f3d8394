package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// JSON $batch carries up to 20 requests in one round trip (GRAPH-NOTES):
// reading the users and memberships of thousands of ids one request at a
// time cost a tenant's status ten thousand requests. Only GETs travel this
// way here, so a $batch is a read and may be retried like one.
const (
	maxBatchItems = 20
	// maxConcurrentBatches bounds the $batch requests in flight; each
	// stands for 20 reads on Graph's side.
	maxConcurrentBatches = 4
	// maxItemAttempts is how many times an item answered with a transient
	// status is sent: once, then the retries the SDK would make.
	maxItemAttempts = 1 + maxSafeRetries
)

type batchItem struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// header reads an item's header, whose name is case-insensitive.
func (a batchAnswer) header(name string) string {
	for k, v := range a.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// relativeURL is a v1.0 path with its query, encoded as request encodes
// it, for a $batch item.
func relativeURL(path string, query url.Values) string {
	if len(query) == 0 {
		return path
	}
	return path + "?" + strings.ReplaceAll(strings.ReplaceAll(query.Encode(), "%24", "$"), "+", "%20")
}

// batchLists reads a collection at each of paths (relative to v1.0, with
// their query) through $batch and returns each whole, following
// @odata.nextLink one request at a time. A path Graph answers with 404
// gives nil; any other failure fails the whole read.
func batchLists[T any](ctx context.Context, c *Client, op string, paths []string) ([][]T, error) {
	answers, err := c.batchGet(ctx, op, paths)
	if err != nil {
		return nil, err
	}
	out := make([][]T, len(paths))
	for i, a := range answers {
		if a.Status == http.StatusNotFound {
			continue
		}
		if a.Status/100 != 2 {
			return nil, batchError(op, a)
		}
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(a.Body, &page); err != nil {
			return nil, fmt.Errorf("%s: reading Graph's answer: %w", op, err)
		}
		items := page.Value
		if items == nil {
			items = []T{}
		}
		if page.NextLink != "" {
			rest, err := listJSON[T](ctx, c, op, page.NextLink, nil)
			if err != nil {
				return nil, err
			}
			items = append(items, rest...)
		}
		out[i] = items
	}
	return out, nil
}

// batchGet sends a GET for each path in $batch requests of 20, up to
// maxConcurrentBatches at once, and returns the answers in the order of
// paths. An item answered with 429, 500, 502, 503 or 504 is sent again in
// a later $batch, after the wait its Retry-After asks or the SDK's backoff,
// at most maxItemAttempts times; its last answer is returned as it came.
func (c *Client) batchGet(ctx context.Context, op string, paths []string) ([]batchAnswer, error) {
	answers := make([]batchAnswer, len(paths))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, maxConcurrentBatches)
	)
	for start := 0; start < len(paths); start += maxBatchItems {
		end := min(start+maxBatchItems, len(paths))
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				first = cmpErr(first, ctx.Err())
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := c.batchChunk(ctx, op, paths, start, end, answers); err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return answers, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// batchChunk sends paths[start:end] and writes their answers into
// answers[start:end], retrying the items that answered with a transient
// status.
func (c *Client) batchChunk(ctx context.Context, op string, paths []string, start, end int, answers []batchAnswer) error {
	pending := make([]int, 0, end-start)
	for i := start; i < end; i++ {
		pending = append(pending, i)
	}
	for attempt := 1; ; attempt++ {
		items := make([]batchItem, len(pending))
		for k, i := range pending {
			items[k] = batchItem{ID: strconv.Itoa(i), Method: "GET", URL: paths[i]}
		}
		got, err := c.sendBatch(ctx, op, items)
		if err != nil {
			return err
		}
		var again []int
		var wait time.Duration
		for _, a := range got {
			i, err := strconv.Atoi(a.ID)
			if err != nil || !slices.Contains(pending, i) {
				return fmt.Errorf("%s: Graph answered a request it was not sent (%q)", op, a.ID)
			}
			answers[i] = a
			if transientStatus(a.Status) && attempt < maxItemAttempts {
				again = append(again, i)
				wait = max(wait, retryDelay(a.header("Retry-After"), attempt))
			}
		}
		for _, i := range pending {
			if answers[i].ID == "" {
				return fmt.Errorf("%s: Graph's $batch answer left out request %d", op, i)
			}
		}
		if len(again) == 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		for _, i := range again {
			answers[i] = batchAnswer{}
		}
		pending = again
	}
}

// sendBatch posts one $batch of GETs and returns its answers.
func (c *Client) sendBatch(ctx context.Context, op string, items []batchItem) ([]batchAnswer, error) {
	ri, err := c.request(abs.POST, "/$batch", nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	data, err := json.Marshal(map[string]any{"requests": items})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ri.SetStreamContentAndContentType(data, "application/json")
	// Every item is a GET: the whole request is a read, safe to send again
	// after a dropped connection.
	ri.AddRequestOptions([]abs.RequestOption{safeRead{}})
	var body struct {
		Responses []batchAnswer `json:"responses"`
	}
	if err := c.exchangeJSON(ctx, op, ri, &body); err != nil {
		return nil, err
	}
	return body.Responses, nil
}

// batchError is an item's failure as an *Error, read from Graph's error
// body and the item's own request id.
func batchError(op string, a batchAnswer) error {
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
				Date      string `json:"date"`
			} `json:"innerError"`
			Details []struct {
				Code string `json:"code"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(a.Body, &body) // a body that is not Graph's error leaves the status alone to tell
	e := &Error{Op: op, Status: a.Status, Code: body.Error.Code, Message: body.Error.Message,
		RequestID: body.Error.InnerError.RequestID, Date: body.Error.InnerError.Date}
	for _, d := range body.Error.Details {
		if d.Code != "" {
			e.DetailCodes = append(e.DetailCodes, d.Code)
		}
	}
	if e.RequestID == "" {
		e.RequestID = a.header("request-id")
	}
	if e.Message == "" {
		e.Message = http.StatusText(a.Status)
	}
	return e
}

// transientStatus reports the statuses a read is sent again after: the
// SDK's (429, 503, 504) and safeReadRetry's (500, 502).
func transientStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
