// Package templates holds Stadion's consul-template templates for HAProxy
// and nginx (haproxy.cfg.ctmpl, nginx.conf.ctmpl; README.md describes them).
// It has no Go API: its tests render the templates with the real
// consul-template against a real Consul, compare the renders with the golden
// files in testdata and check them with `haproxy -c` and `nginx -t`.
package templates
