#!/usr/bin/env bash
# Deploys the Java client io.datagw:datagw-client (clients/java) into the file
# Maven repository dist/maven/: its pom, jar, -sources.jar and -javadoc.jar with
# checksums and maven-metadata.xml, the layout Maven Central has. A project
# that lists file://$PWD/dist/maven as a <repository> then resolves it like a
# published release. Idempotent: a second run replaces the version's files.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mvn=${MVN:-mvn}
version=$(tr -d '[:space:]' < "$here/clients/VERSION")
repo=$here/dist/maven
mkdir -p "$repo"
# clean: classes of deleted sources must not linger in the jar. No install: the
# shared ~/.m2 gets the artifact only the way a user gets it, from a repository.
"$mvn" -q -B -Dstyle.color=never -f "$here/clients/java/pom.xml" clean deploy \
  -Dmaven.install.skip=true -DaltDeploymentRepository="dist::file://$repo"
jar=$repo/io/datagw/datagw-client/$version/datagw-client-$version.jar
[ -f "$jar" ] || { echo "$jar missing: clients/java/pom.xml's <version> is not clients/VERSION ($version)" >&2; exit 1; }
echo "$jar"
