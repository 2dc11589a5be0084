"""Pages that belong to no single area: home, language switch, helpers for forms."""
