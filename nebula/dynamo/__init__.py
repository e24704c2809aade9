"""DynamoDB plumbing shared by every app: models, configuration, tables, call counting."""
