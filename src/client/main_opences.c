#include <stdio.h>

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	fprintf(stderr, "opences: not yet\n");
	return 1;
}
