//! The dependency graph over resources: what the planner and apply walk.
