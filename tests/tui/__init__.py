"""Console tests: views, snapshots, pilot flows."""
