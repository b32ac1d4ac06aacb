// The admission-webhook stand-in for istiod (standard library only).
module meshstack.local/e2e/kube/webhook

go 1.26.0
