from cosflow.cli import main

main()
