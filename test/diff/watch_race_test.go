//go:build race

package diff

// raceEnabled scales the slow-consumer test down under the race detector,
// where SQLite writes are an order of magnitude slower.
const raceEnabled = true
