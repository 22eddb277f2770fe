"""Facts: typed attributes on spans and relations between spans (pure: no Django)."""
