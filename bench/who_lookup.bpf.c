// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a firewall that decides per cgroup and per executable: the
 * one lookup of one_lookup.bpf.c after reading who asks, as lsnitch's hooks
 * read it (bpf/exe.bpf.h: the calling task's cgroup id and its executable's
 * device and inode, through bpf_get_current_task_btf()). Nothing else: no
 * cache, no count. The programs and maps are one_lookup.bpf.c's, named who_*;
 * bench/one_lookup.c loads and fills it like the floor.
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

#define FLOOR_NAME(hook) who_##hook
#define FLOOR_WHO_ASKS() who_asks()
#include "one_lookup.bpf.c"
