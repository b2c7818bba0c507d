#!/usr/bin/env python3
"""PyMySQL (pure Python, text protocol): the script's literal SQL, autocommit on."""
import pymysql

from common import run_dbapi


def connect(a):
    return pymysql.connect(host=a.host, port=a.port, user=a.user, password=a.password,
                           database=a.db, charset="utf8mb4", autocommit=True)


if __name__ == "__main__":
    run_dbapi("pymysql", connect)
