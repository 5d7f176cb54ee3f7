"""Flask servers imitating the Mixpanel and Braze APIs, with state, a clock, a journal and faults."""
