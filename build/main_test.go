package build_test

import (
	"testing"

	"github.com/polardb/imagebuilder/internal/buildtest"
)

// TestMain runs the tests the way buildtest.Main says.
func TestMain(m *testing.M) { buildtest.Main(m) }
