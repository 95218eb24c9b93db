"""One module per outside thing: gateway HTTP, MQTT, SQLite, GPIO, keys, sound, systemd."""
