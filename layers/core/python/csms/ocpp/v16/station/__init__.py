"""The messages of the actions a station initiates: its requests and the central system's responses (issue 7: the
function answering a station builds these, not the central system's commands)."""
