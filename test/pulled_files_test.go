package test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/library"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestFilesFetchedFromURLsShowOnTheirItem: a library item's files are kept reads (issue 16), and
// the simulator writes a file that an update session fetches from a URL on its own, after the
// request that added it answered. So while it fetches, nothing showing the item's files is kept,
// and the file shows, on /api and /rest, once it has arrived.
func TestFilesFetchedFromURLsShowOnTheirItem(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	ctx := context.Background()

	// The file's source answers only once the test lets it.
	release := make(chan struct{})
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = w.Write([]byte("fetched from a URL\n"))
	}))
	t.Cleanup(source.Close)
	var releaseOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(let) // runs before source.Close, which waits for the handler

	var datastores []struct{ Datastore string }
	env.Do("GET", "/api/vcenter/datastore", token, nil).JSON(t, &datastores)
	lm := library.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
	lib, err := lm.CreateLibrary(ctx, library.Library{Name: "fetched", Type: "LOCAL",
		Storage: []library.StorageBacking{{DatastoreID: datastores[0].Datastore, Type: "DATASTORE"}}})
	if err != nil {
		t.Fatal(err)
	}
	item, err := lm.CreateLibraryItem(ctx, library.Item{Name: "notes", Type: "file", LibraryID: lib})
	if err != nil {
		t.Fatal(err)
	}
	files := func() []string {
		t.Helper()
		return fieldOnBothProtocols(t, env, token, "/api/content/library/item/"+item+"/file",
			"/rest/com/vmware/content/library/item/file?library_item_id="+item, "name")
	}
	for range 2 { // the second read would be the kept answer
		if got := files(); len(got) != 0 {
			t.Fatalf("files of the new item: %v", got)
		}
	}
	// fileSize is the size the get of the file by its name answers, on /api and on /rest (a POST
	// there), or -1 where neither has it.
	fileSize := func() int64 {
		t.Helper()
		type file struct{ Size int64 }
		var onAPI file
		var onREST struct{ Value file }
		api := env.Do("GET", "/api/content/library/item/"+item+"/file?name=notes.txt", token, nil)
		rest := env.Do("POST", "/rest/com/vmware/content/library/item/file/id:"+item+"?~action=get", token, map[string]any{"name": "notes.txt"})
		switch {
		case api.Status == 404 && rest.Status == 404:
			return -1
		case api.Status != 200 || rest.Status != 200 || json.Unmarshal(api.Body, &onAPI) != nil || json.Unmarshal(rest.Body, &onREST) != nil:
			t.Fatalf("the file's get: %d %s on /api, %d %s on /rest", api.Status, api.Body, rest.Status, rest.Body)
		case onAPI.Size != onREST.Value.Size:
			t.Fatalf("the file's size: %d on /api, %d on /rest", onAPI.Size, onREST.Value.Size)
		}
		return onAPI.Size
	}

	r := env.Do("POST", "/api/content/library/item/update-session", token, map[string]any{"library_item_id": item})
	var session string
	if r.Status != 201 || json.Unmarshal(r.Body, &session) != nil {
		t.Fatalf("update session: %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/content/library/item/update-session/"+session+"/file", token, map[string]any{
		"name": "notes.txt", "source_type": "PULL", "source_endpoint": map[string]any{"uri": source.URL + "/notes.txt"}})
	if r.Status != 200 {
		t.Fatalf("file add: %d %s", r.Status, r.Body)
	}
	for range 2 { // still being fetched: nothing to keep yet
		if got := files(); len(got) != 0 {
			t.Fatalf("files while the file is fetched: %v", got)
		}
		if size := fileSize(); size != -1 {
			t.Fatalf("the file's get while it is fetched: size %d, want not found", size)
		}
	}
	let()
	// Waiting as a client does, on the file's status in its session: the simulator adds the file
	// to its item outside its lock, and marks it READY under the lock after, so the item's files
	// are read only once that shows.
	servertest.Eventually(t, "the fetched file READY in its session", 20*time.Second, func(context.Context) (bool, error) {
		var sessionFiles []struct{ Name, Status string }
		env.Do("GET", "/api/content/library/item/update-session/"+session+"/file", token, nil).JSON(t, &sessionFiles)
		return len(sessionFiles) == 1 && sessionFiles[0].Status == "READY", nil
	})
	if got := files(); !slices.Equal(got, []string{"notes.txt"}) {
		t.Fatalf("files once the fetch ended: %v", got)
	}
	for range 2 {
		if size := fileSize(); size != int64(len("fetched from a URL\n")) {
			t.Fatalf("the file's get once the fetch ended: size %d, want the fetched file's", size)
		}
	}
	if r := env.Do("POST", "/api/content/library/item/update-session/"+session+"?action=complete", token, nil); r.Status != 204 {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if got := files(); !slices.Equal(got, []string{"notes.txt"}) {
		t.Fatalf("files once the session completed: %v", got)
	}
}
