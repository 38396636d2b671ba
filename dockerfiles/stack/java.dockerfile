# tsk java stack: the default JDK (trixie: OpenJDK 21; bookworm: 17) and Maven from Debian. Gradle
# projects use their wrapper (./gradlew); Debian's gradle package is too old to be useful.
ARG DEBIAN_FRONTEND=noninteractive
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends default-jdk-headless maven \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/default-java
