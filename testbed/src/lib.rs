//! chat-testbed: the reference chat backend.
