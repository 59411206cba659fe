from linktor.msgfy.app import main

main()
