/*
 * Pipelined calls on one CA socket (ca_client.h): a writer lock for sending,
 * leader/follower reading. Waiters live on the callers' stacks, linked in a
 * list under mu; whoever holds the reader role reads one frame without mu,
 * then finds the waiter with that tag, decodes the result into the waiter's
 * struct, and signals it.
 */
#include "ipc/ca_client.h"
#include "ipc/frame.h"
#include "common/limits.h"
#include "common/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
	uint32_t tag;
	int done;
	int err;
	struct oc_ca_result *res;
	pthread_cond_t cv;
	struct waiter *next;
};

struct oc_ca_client {
	int fd;
	pthread_mutex_t wmu;           /* one sender at a time */
	pthread_mutex_t mu;            /* everything below */
	uint32_t next_tag;
	struct waiter *waiters;
	int reading;                   /* some caller holds the reader role */
	int broken;                    /* the stream is unusable */
	struct ocbuf rbuf;             /* the reader's frame buffer */
};

int
oc_ca_client_new(int fd, struct oc_ca_client **cp)
{
	struct oc_ca_client *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	c->fd = fd;
	c->next_tag = 1;
	ocbuf_init(&c->rbuf, OC_IPC_FRAME_MAX);
	if (pthread_mutex_init(&c->wmu, NULL) != 0) {
		free(c);
		return OC_ERR_NOMEM;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		pthread_mutex_destroy(&c->wmu);
		free(c);
		return OC_ERR_NOMEM;
	}
	*cp = c;
	return OC_OK;
}

void
oc_ca_client_free(struct oc_ca_client *c)
{
	if (c == NULL)
		return;
	ocbuf_free(&c->rbuf);
	pthread_mutex_destroy(&c->wmu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Under mu: the stream is dead; wake everyone. */
static void
mark_broken(struct oc_ca_client *c)
{
	c->broken = 1;
	for (struct waiter *w = c->waiters; w != NULL; w = w->next)
		pthread_cond_signal(&w->cv);
}

/* Under mu: give the reader role to a caller still waiting (if any). */
static void
pass_reading(struct oc_ca_client *c)
{
	for (struct waiter *w = c->waiters; w != NULL; w = w->next)
		if (!w->done) {
			pthread_cond_signal(&w->cv);
			return;
		}
}

static void
unlink_waiter(struct oc_ca_client *c, struct waiter *me)
{
	for (struct waiter **pp = &c->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == me) {
			*pp = me->next;
			return;
		}
}

/*
 * Under mu, as the reader: read one frame (mu released meanwhile) and
 * deliver it. Returns with mu held and the reader role released.
 */
static void
read_one(struct oc_ca_client *c)
{
	struct waiter *w;
	uint32_t type = 0, tag = 0;
	int r;

	pthread_mutex_unlock(&c->mu);
	r = oc_frame_recv_tagged(c->fd, &type, &tag, &c->rbuf);
	pthread_mutex_lock(&c->mu);
	c->reading = 0;
	if (r != OC_OK) {
		error_fr(r, "CA channel");
		mark_broken(c);
		return;
	}
	for (w = c->waiters; w != NULL; w = w->next)
		if (w->tag == tag && !w->done)
			break;
	if (w == NULL) {
		log_error("CA channel: answer with unknown tag %u", tag);
		mark_broken(c);
		return;
	}
	w->err = type == OC_CA_MSG_RESULT ? oc_ca_result_decode(&c->rbuf, w->res) : OC_ERR_IPC;
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pass_reading(c);
}

int
oc_ca_client_call(struct oc_ca_client *c, uint32_t type, const struct oc_ca_order *o,
    struct oc_ca_result *res)
{
	struct waiter me;
	struct ocbuf b;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&me, 0, sizeof(me));
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	if (c == NULL || (o == NULL && type != OC_CA_MSG_PING)) {
		ocbuf_free(&b);
		return OC_ERR_INVALID;
	}
	if (o != NULL && (r = oc_ca_order_encode(o, &b)) != OC_OK) {
		ocbuf_free(&b);
		return r;
	}
	if (pthread_cond_init(&me.cv, NULL) != 0) {
		ocbuf_free(&b);
		return OC_ERR_NOMEM;
	}
	me.res = res;
	pthread_mutex_lock(&c->mu);
	if (c->broken) {
		r = OC_ERR_IPC;
		goto out;
	}
	if ((me.tag = c->next_tag++) == 0)
		me.tag = c->next_tag++;
	me.next = c->waiters;
	c->waiters = &me;
	pthread_mutex_unlock(&c->mu);

	pthread_mutex_lock(&c->wmu);
	r = oc_frame_send_tagged(c->fd, type, me.tag, &b);
	pthread_mutex_unlock(&c->wmu);

	pthread_mutex_lock(&c->mu);
	if (r != OC_OK) {
		error_fr(r, "CA channel");
		mark_broken(c);
	}
	while (!me.done && !c->broken) {
		if (!c->reading) {
			c->reading = 1;
			read_one(c);
		} else
			pthread_cond_wait(&me.cv, &c->mu);
	}
	unlink_waiter(c, &me);
	if (me.done) {
		r = me.err;
	} else {
		r = OC_ERR_IPC;
	}
out:
	pthread_mutex_unlock(&c->mu);
	pthread_cond_destroy(&me.cv);
	ocbuf_free(&b);
	if (r != OC_OK)
		oc_ca_result_clear(res);
	return r;
}
