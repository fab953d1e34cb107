//! End-to-end test support: real nats-server, chat-testbed and loadgen processes.
