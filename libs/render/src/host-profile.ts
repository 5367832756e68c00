/**
 * Node-local facts the renderers need but the cluster spec does not decide: file paths, sockets,
 * and test-only bind overrides. The control plane renders with DEFAULT_HOST_PROFILE (those
 * digests identify a revision); an agent renders again with its own profile to write files.
 */
export interface HostProfile {
  haproxy: {
    /** Where haproxy.cfg is installed (Pacemaker's ocf:heartbeat:anything passes it to haproxy). */
    configPath: string;
    /** Admin socket in `global`; the agent reads state and reloads through it. */
    statsSocket: string;
    /** When set, every frontend binds this address instead of its VIP (several haproxies on one test host). */
    bindAddressOverride?: string;
    /** chroot directory, or undefined for none (containers, labs). */
    chroot?: string;
    /** User and group haproxy drops to; undefined keeps the starting user (labs). */
    user?: string;
    group?: string;
    /** syslog target for `log` in global, e.g. `/dev/log`; undefined logs nothing. */
    logTarget?: string;
    /**
     * Master CLI socket of a Pacemaker-run HAProxy (`ocf:heartbeat:anything`): the CIB's haproxy
     * command line gets `-S <socket>,mode,600`, so an agent in `external` mode can reload it.
     * Undefined: no master socket (systemd reloads it).
     */
    masterSocket?: string;
    /**
     * `maxconn` in `global` instead of the rendered 20480, for hosts whose open-file limit cannot
     * start that (HAProxy needs ~2 descriptors a connection; containers, labs).
     */
    maxconn?: number;
  };
  corosync: {
    logFile: string;
  };
  galera: {
    /** my.cnf the galera resource agent starts mariadbd with. */
    configPath: string;
    dataDir: string;
    socket: string;
    /**
     * mariadbd's pid file, in my.cnf and the CIB's galera `pid`: whoever starts mariadbd (the
     * resource agent, or Triad's agent during a recovery with galera unmanaged) writes the file the
     * other one checks, so Pacemaker recognises a member Triad started when it gets it back.
     */
    pidFile: string;
    providerPath: string;
    logFile: string;
    /**
     * my.cnf fragment holding `wsrep_sst_auth` (mariabackup SST): galera.cnf `!include`s it and the
     * agent writes it from the spec's secret reference, so no artifact ever carries the password.
     */
    sstAuthFile: string;
    /** What the galera resource agent starts (the CIB's `binary`); its default (mysqld_safe) when unset. */
    serverBinary?: string;
    /** innodb_buffer_pool_size (sized to the host's memory); MariaDB's default when unset. */
    innodbBufferPoolSize?: string;
  };
  rabbitmq: {
    configPath: string;
    mnesiaBase: string;
    logBase: string;
    /** Definitions file rabbitmq.conf loads at boot (vhost default queue type, HA policy). */
    definitionsPath: string;
    /**
     * Erlang node name of every spec node (`rabbit@<node name>` when unset). Labs that run several
     * nodes on one host give them distinct names here.
     */
    erlangNodeNames?: Record<string, string>;
    /** Address Erlang distribution listens on; the node's internal address when unset. */
    distributionInterface?: string;
    /** This node's distribution port; the spec's rabbitmq.distributionPort when unset. */
    distributionPort?: number;
    /** Address epmd listens on (ERL_EPMD_ADDRESS); the node's internal address when unset. */
    epmdAddress?: string;
    /** Port of epmd (ERL_EPMD_PORT); 4369 when unset. */
    epmdPort?: number;
  };
}

export const DEFAULT_HOST_PROFILE: HostProfile = {
  haproxy: {
    configPath: '/etc/haproxy/haproxy.cfg',
    statsSocket: '/run/haproxy/admin.sock',
    chroot: '/var/lib/haproxy',
    user: 'haproxy',
    group: 'haproxy',
    logTarget: '/dev/log',
  },
  corosync: {
    logFile: '/var/log/corosync/corosync.log',
  },
  galera: {
    configPath: '/etc/mysql/my.cnf',
    dataDir: '/var/lib/mysql',
    socket: '/run/mysqld/mysqld.sock',
    pidFile: '/run/mysqld/mysqld.pid',
    providerPath: '/usr/lib/galera/libgalera_smm.so',
    logFile: '/var/log/mysql/mysqld.log',
    sstAuthFile: '/etc/mysql/galera-sst-auth.cnf',
  },
  rabbitmq: {
    configPath: '/etc/rabbitmq/rabbitmq.conf',
    mnesiaBase: '/var/lib/rabbitmq/mnesia',
    logBase: '/var/log/rabbitmq',
    definitionsPath: '/etc/rabbitmq/definitions.json',
  },
};
