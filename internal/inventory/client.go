package inventory

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"sync"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// newInternalClient logs in to the loopback listener. It does not use the
// simulator's in-memory round tripper: that one runs every caller in the
// process under a single shared session, whose per-session objects
// (property collectors, views) would then be shared between Inventories.
func newInternalClient(ctx context.Context, u *url.URL, login *url.Userinfo, counts generations) (*vim25.Client, *reloginTransport, error) {
	sc := soap.NewClient(u, true)
	if t, ok := sc.Client.Transport.(*http.Transport); ok {
		// Controllers call in parallel (the namespaces controller has 32 workers): keep their
		// connections instead of dialling and closing one per call beyond net/http's default 2.
		t.MaxIdleConnsPerHost = 64
	}
	// Switches as clients see them (switchtype.go).
	sc.Client.Transport = switchTypes{next: sc.Client.Transport}
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	rt := &reloginTransport{soap: sc, sessionManager: *c.ServiceContent.SessionManager, login: login, counts: counts}
	if err := rt.relogin(ctx, rt.loginGeneration()); err != nil {
		return nil, nil, err
	}
	c.RoundTripper = rt
	return c, rt, nil
}

// reloginTransport retries a call once after logging in again when the
// session was terminated (the simulator answers NotAuthenticated).
type reloginTransport struct {
	soap           *soap.Client
	sessionManager types.ManagedObjectReference
	login          *url.Userinfo
	// counts are the inventory's change counts, moved after a call that changed something.
	counts generations
	// sync and touched, when set, are the durable inventory's: a call returns once its changes,
	// and the objects it named, are stored.
	sync    func(context.Context) error
	touched func([]types.ManagedObjectReference)

	mu  sync.Mutex
	gen int // bumped on every login, so concurrent failures log in once
}

func (t *reloginTransport) loginGeneration() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

func (t *reloginTransport) relogin(ctx context.Context, failedGen int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != failedGen {
		return nil // someone logged in since
	}
	password, _ := t.login.Password()
	_, err := methods.Login(ctx, t.soap, &types.Login{
		This:     t.sessionManager,
		UserName: t.login.Username(),
		Password: password,
	})
	if err == nil {
		t.gen++
	}
	return err
}

func (t *reloginTransport) RoundTrip(ctx context.Context, req, res soap.HasFault) (err error) {
	afterChanges(t.counts, func() { err = t.roundTrip(ctx, req, res) })
	if t.sync != nil {
		t.touched(callRefs(req))
		if serr := t.sync(ctx); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

func (t *reloginTransport) roundTrip(ctx context.Context, req, res soap.HasFault) error {
	gen := t.loginGeneration()
	err := t.soap.RoundTrip(ctx, req, res)
	if !isNotAuthenticated(err) {
		return err
	}
	if lerr := t.relogin(ctx, gen); lerr != nil {
		return errors.Join(err, lerr)
	}
	clearResponse(res)
	return t.soap.RoundTrip(ctx, req, res)
}

// clearResponse empties a generated method body (fields Res and Fault_) so
// a retry does not report the first attempt's fault.
func clearResponse(res soap.HasFault) {
	v := reflect.ValueOf(res)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	for _, name := range []string{"Res", "Fault_"} {
		if f := v.Elem().FieldByName(name); f.IsValid() && f.CanSet() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
}

func isNotAuthenticated(err error) bool {
	if err == nil || !soap.IsSoapFault(err) {
		return false
	}
	_, ok := soap.ToSoapFault(err).VimFault().(types.NotAuthenticated)
	return ok
}
