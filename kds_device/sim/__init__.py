"""The Deliverect simulator and the project's one generator of realistic orders."""
