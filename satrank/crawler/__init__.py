"""The crawler process: graph sync, probe rounds, scoring, leader lock, metrics."""
