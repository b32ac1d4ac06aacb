// Command e2e-webhook stands in for istiod's admission webhooks on the e2e control plane, where
// istiod itself is not built (the istio.io/istio module on the proxy is no approved release) and
// no pod network exists. It admits every AdmissionReview without mutating it, so injection and
// Istio's own validation are NOT exercised; the API server's CRD schema validation still is.
//
// Reachability: the API server dials a webhook Service at its ClusterIP, which nothing here
// routes. Its egress selector (--egress-selector-config-file, network context "cluster", which
// carries webhook calls: k8s.io/apiserver pkg/util/webhook/authentication.go) is pointed at this
// program's Unix socket with proxyProtocol HTTPConnect: every CONNECT is answered here and the
// tunnelled TLS connection is served by the admission handler itself. Its certificate names
// istiod.istio-system.svc, as the API server verifies.
//
// caBundle: istiod patches its webhooks' caBundle and, once serving, turns its validator's
// failurePolicy to Fail (the istiod chart's validatingwebhookconfiguration.yaml says so). This
// program does the same, via the API, for every webhook whose Service is istiod* in -namespace.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

type review struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID       string                                `json:"uid"`
		Kind      struct{ Group, Version, Kind string } `json:"kind"`
		Namespace string                                `json:"namespace"`
		Name      string                                `json:"name"`
		Operation string                                `json:"operation"`
	} `json:"request"`
}

func admit(w http.ResponseWriter, r *http.Request) {
	var in review
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&in); err != nil || in.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	q := in.Request
	log.Printf("admit path=%s kind=%s/%s/%s object=%s/%s operation=%s host=%s",
		r.URL.Path, q.Kind.Group, q.Kind.Version, q.Kind.Kind, q.Namespace, q.Name, q.Operation, r.Host)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"apiVersion": in.APIVersion,
		"kind":       "AdmissionReview",
		"response":   map[string]any{"uid": q.UID, "allowed": true},
	})
}

// tunnels is a net.Listener of connections handed over by the CONNECT proxy.
type tunnels chan net.Conn

func (t tunnels) Accept() (net.Conn, error) { return <-t, nil }
func (t tunnels) Close() error              { return nil }
func (t tunnels) Addr() net.Addr            { return &net.UnixAddr{Name: "connect-tunnel", Net: "unix"} }

// buffered keeps bytes the CONNECT request's reader read ahead.
type buffered struct {
	net.Conn
	r *bufio.Reader
}

func (b buffered) Read(p []byte) (int, error) { return b.r.Read(p) }

func proxy(l net.Listener, out tunnels) {
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatalf("egress socket: %v", err)
		}
		go func() {
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err != nil || req.Method != http.MethodConnect {
				_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
				_ = c.Close()
				return
			}
			log.Printf("connect target=%s", req.RequestURI)
			_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			out <- buffered{c, br}
		}()
	}
}

type api struct {
	base   string
	client *http.Client
}

func (a api) do(method, path, ctype string, body []byte, into any) error {
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if into != nil {
		return json.Unmarshal(data, into)
	}
	return nil
}

type webhookConfigs struct {
	Items []struct {
		Metadata struct{ Name string } `json:"metadata"`
		Webhooks []struct {
			FailurePolicy string `json:"failurePolicy"`
			ClientConfig  struct {
				CABundle string                            `json:"caBundle"`
				Service  *struct{ Namespace, Name string } `json:"service"`
			} `json:"clientConfig"`
		} `json:"webhooks"`
	} `json:"items"`
}

// patchOnce does what istiod's webhook controllers do to istiod's own webhooks.
func patchOnce(a api, namespace, caBundle string) {
	for _, kind := range []string{"validatingwebhookconfigurations", "mutatingwebhookconfigurations"} {
		path := "/apis/admissionregistration.k8s.io/v1/" + kind
		var list webhookConfigs
		if err := a.do(http.MethodGet, path, "", nil, &list); err != nil {
			log.Printf("list %s: %v", kind, err)
			continue
		}
		for _, item := range list.Items {
			var ops []map[string]any
			for i, wh := range item.Webhooks {
				svc := wh.ClientConfig.Service
				if svc == nil || svc.Namespace != namespace || !strings.HasPrefix(svc.Name, "istiod") {
					continue
				}
				if wh.ClientConfig.CABundle != caBundle {
					ops = append(ops, map[string]any{"op": "add", "path": fmt.Sprintf("/webhooks/%d/clientConfig/caBundle", i), "value": caBundle})
				}
				if kind == "validatingwebhookconfigurations" && wh.FailurePolicy != "Fail" {
					ops = append(ops, map[string]any{"op": "add", "path": fmt.Sprintf("/webhooks/%d/failurePolicy", i), "value": "Fail"})
				}
			}
			if len(ops) == 0 {
				continue
			}
			body, _ := json.Marshal(ops)
			if err := a.do(http.MethodPatch, path+"/"+item.Metadata.Name, "application/json-patch+json", body, nil); err != nil {
				log.Printf("patch %s %s: %v", kind, item.Metadata.Name, err)
			} else {
				log.Printf("patched %s %s: %d change(s)", kind, item.Metadata.Name, len(ops))
			}
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:16443", "loopback HTTPS address (for direct calls)")
	egress := flag.String("egress-socket", "", "Unix socket the API server's egress selector CONNECTs to")
	cert := flag.String("cert", "", "serving certificate (PEM)")
	key := flag.String("key", "", "serving key (PEM)")
	caFile := flag.String("ca", "", "CA of the serving certificate and of the API server (PEM)")
	server := flag.String("apiserver", "", "API server URL for patching istiod's webhooks (empty: no patching)")
	clientCert := flag.String("client-cert", "", "client certificate for the API server")
	clientKey := flag.String("client-key", "", "client key for the API server")
	namespace := flag.String("namespace", "istio-system", "namespace of istiod's Service")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.LUTC)

	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	ca, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", admit)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}

	if *egress != "" {
		_ = os.Remove(*egress)
		l, err := net.Listen("unix", *egress)
		if err != nil {
			log.Fatal(err)
		}
		in := make(tunnels)
		go proxy(l, in)
		go func() { log.Fatal(srv.Serve(tls.NewListener(in, srv.TLSConfig))) }()
	}
	if *server != "" {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(ca)
		client, err := tls.LoadX509KeyPair(*clientCert, *clientKey)
		if err != nil {
			log.Fatal(err)
		}
		a := api{base: *server, client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12}}}}
		bundle := base64.StdEncoding.EncodeToString(ca)
		go func() {
			for {
				patchOnce(a, *namespace, bundle)
				time.Sleep(2 * time.Second)
			}
		}()
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on %s and %q", *listen, *egress)
	log.Fatal(srv.Serve(tls.NewListener(l, srv.TLSConfig)))
}
