"""HTTP clients shared by the parts that send requests: the bridge (`migrator serve`) and the replay harness."""
