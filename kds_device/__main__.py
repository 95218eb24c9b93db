from kds_device.cli import main

raise SystemExit(main())
