// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a firewall that decides per cgroup and per executable: the
 * one lookup of one_lookup.bpf.c after reading who asks, as lsnitch's hooks
 * read it (bpf/exe.bpf.h: the calling task's cgroup id and its executable's
 * device and inode, through bpf_get_current_task_btf()). Nothing else: no
 * cache, no count. bench/one_lookup.c loads and fills it like the floor.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct kernfs_node___who {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup___who {
	struct kernfs_node___who *kn;
} __attribute__((preserve_access_index));

struct css_set___who {
	struct cgroup___who *dfl_cgrp;
} __attribute__((preserve_access_index));

struct super_block___who {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___who {
	unsigned long i_ino;
	struct super_block___who *i_sb;
} __attribute__((preserve_access_index));

struct file___who {
	struct inode___who *f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___who {
	struct file___who *exe_file;
} __attribute__((preserve_access_index));

struct task_struct___who {
	unsigned int flags;
	struct mm_struct___who *mm;
	struct css_set___who *cgroups;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} floor4 SEC(".maps");

struct v6key {
	__u32 w[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct v6key);
	__type(value, __u32);
} floor6 SEC(".maps");

/* Set by nobody: keeps the identity's loads from being optimised away. */
volatile __u64 who_deny_cg;

/* 1 if the caller is who_deny_cg's cgroup (never: it stays 0), else 0. */
static __always_inline int who_asks(void)
{
	struct task_struct___who *t = (void *)bpf_get_current_task_btf();
	__u64 cg = t->cgroups->dfl_cgrp->kn->id, ino = 0, dev = 0;
	struct mm_struct___who *mm = t->mm;

	if (!(t->flags & 0x00200000 /* PF_KTHREAD */) && mm && mm->exe_file &&
	    mm->exe_file->f_inode) {
		ino = mm->exe_file->f_inode->i_ino;
		dev = mm->exe_file->f_inode->i_sb->s_dev;
	}
	return (cg ^ ino ^ dev) == who_deny_cg;
}

static __always_inline int lookup4(struct bpf_sock_addr *ctx)
{
	__u32 k = ctx->user_ip4;

	if (who_asks())
		return 0;
	return bpf_map_lookup_elem(&floor4, &k) ? 0 : 1;
}

static __always_inline int lookup6(struct bpf_sock_addr *ctx)
{
	struct v6key k = { { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			     ctx->user_ip6[3] } };

	if (who_asks())
		return 0;
	return bpf_map_lookup_elem(&floor6, &k) ? 0 : 1;
}

SEC("cgroup/connect4")
int who_connect4(struct bpf_sock_addr *ctx)
{
	return lookup4(ctx);
}

SEC("cgroup/connect6")
int who_connect6(struct bpf_sock_addr *ctx)
{
	return lookup6(ctx);
}

SEC("cgroup/sendmsg4")
int who_sendmsg4(struct bpf_sock_addr *ctx)
{
	return lookup4(ctx);
}

SEC("cgroup/sendmsg6")
int who_sendmsg6(struct bpf_sock_addr *ctx)
{
	return lookup6(ctx);
}

char LICENSE[] SEC("license") = "GPL";
