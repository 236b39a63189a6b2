package jsonscan

// The bounds of the scanner, for the tests that cross them.
const (
	MaxDepth = maxDepth
	MaxNames = maxNames
)
