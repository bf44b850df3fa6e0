"""The messages of the actions the central system initiates: its commands and the station's responses (issue 7: the
function sending commands builds these, not a station's messages)."""
