"""`migrator replay`: send a corpus of chat requests in both forms and judge the differences against the model's own noise."""
