using System.Runtime.Versioning;

// Tapster runs on Linux only (see src/Tapster/AssemblyInfo.cs); so do its tests.
[assembly: SupportedOSPlatform("linux")]
