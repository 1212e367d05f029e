from satrank.cli import main

raise SystemExit(main())
