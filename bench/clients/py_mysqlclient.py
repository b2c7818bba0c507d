#!/usr/bin/env python3
"""mysqlclient (MySQLdb, C libmariadb, text protocol): literal SQL, autocommit on."""
import MySQLdb

from common import run_dbapi


def connect(a):
    return MySQLdb.connect(host=a.host, port=a.port, user=a.user, password=a.password,
                           database=a.db, charset="utf8mb4", autocommit=True)


if __name__ == "__main__":
    run_dbapi("mysqlclient", connect)
