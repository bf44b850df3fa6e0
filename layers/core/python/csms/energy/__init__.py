"""Load management: applying a site's allocation to its stations and checking that they follow it (issue 11)."""
