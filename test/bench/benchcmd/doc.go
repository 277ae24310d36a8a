// Package benchcmd is the logic of strata-bench: it runs workloads against
// etcd-API endpoints (optionally started by itself, each in its own
// process) in alternating A/B rounds and reports throughput, latency,
// errors and the ratio to the first endpoint, as text, JSON, Markdown and
// an SVG chart.
package benchcmd
