"""Technicians made visible: profiles, expertise, who looks after what, and contribution records."""
