package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAdmitAllowsWithTheRequestUID(t *testing.T) {
	body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",` +
		`"kind":{"group":"","version":"v1","kind":"ConfigMap"},"namespace":"n","name":"c","operation":"CREATE"}}`
	rec := httptest.NewRecorder()
	admit(rec, httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(body)))
	var out struct {
		APIVersion string
		Response   struct {
			UID     string
			Allowed bool
			Patch   *string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Response.UID != "u-1" || !out.Response.Allowed || out.Response.Patch != nil {
		t.Fatalf("unexpected response %s", rec.Body.String())
	}
}

func TestAdmitRefusesWhatIsNoAdmissionReview(t *testing.T) {
	rec := httptest.NewRecorder()
	admit(rec, httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(`{}`)))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("code %d", rec.Code)
	}
}

// The API server's egress dialer (k8s.io/apiserver egressselector tunnelHTTPConnect) expects a
// 200 and then speaks TLS on the same connection.
func TestConnectIsAnsweredAndTheTunnelHandedOn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := make(tunnels)
	go proxy(l, in)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "CONNECT 10.96.0.10:443 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("response %v %v", resp, err)
	}
	tunnel := <-in
	_, _ = io.WriteString(c, "hello")
	buf := make([]byte, 5)
	if _, err := io.ReadFull(tunnel, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("tunnel read %q %v", buf, err)
	}
}

func TestPatchOnceGivesIstiodWebhooksTheCAAndFailOnly(t *testing.T) {
	var patches = map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			b, _ := io.ReadAll(r.Body)
			patches[r.URL.Path] = string(b)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/validatingwebhookconfigurations") {
			_, _ = io.WriteString(w, `{"items":[
			  {"metadata":{"name":"istio-validator-istio-system"},"webhooks":[{"failurePolicy":"Ignore","clientConfig":{"service":{"namespace":"istio-system","name":"istiod"}}}]},
			  {"metadata":{"name":"done"},"webhooks":[{"failurePolicy":"Fail","clientConfig":{"caBundle":"Q0E=","service":{"namespace":"istio-system","name":"istiod"}}}]},
			  {"metadata":{"name":"other"},"webhooks":[{"failurePolicy":"Ignore","clientConfig":{"service":{"namespace":"cert-manager","name":"webhook"}}}]}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"items":[{"metadata":{"name":"istio-sidecar-injector"},"webhooks":[
		  {"failurePolicy":"Ignore","clientConfig":{"service":{"namespace":"istio-system","name":"istiod-canary"}}}]}]}`)
	}))
	defer srv.Close()
	patchOnce(api{base: srv.URL, client: srv.Client()}, "istio-system", "Q0E=")
	want := map[string]string{
		"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istio-validator-istio-system": `[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"Q0E="},{"op":"add","path":"/webhooks/0/failurePolicy","value":"Fail"}]`,
		"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector":         `[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"Q0E="}]`,
	}
	if len(patches) != len(want) {
		t.Fatalf("patches %v", patches)
	}
	for path, body := range want {
		if patches[path] != body {
			t.Errorf("%s: got %s want %s", path, patches[path], body)
		}
	}
}
