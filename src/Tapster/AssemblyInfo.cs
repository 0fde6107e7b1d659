using System.Runtime.Versioning;

// Tapster relies on Linux: Unix sockets with SO_PEERCRED, /proc/<pid>/fd, fork-based workers.
[assembly: SupportedOSPlatform("linux")]
