"""Pure helpers every app shares: bounded number and date parsing (no Django imports)."""
