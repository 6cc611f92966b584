from setuptools import setup, find_packages

setup(
    name="tidy-utils",
    version="0.3.1",
    description="Small helpers for tidying text files",
    author="Example Maintainers",
    author_email="maintainers@example.org",
    url="https://example.org/tidy-utils",
    packages=find_packages(),
    install_requires=["chardet>=4"],
    entry_points={"console_scripts": ["tidy = tidy_utils.cli:main"]},
)
